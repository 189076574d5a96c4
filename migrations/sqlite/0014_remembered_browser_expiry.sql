-- Issue 24: the sweep deletes expired remembered browsers in small batches, found by this index
-- rather than by a scan of every remembered browser of every account.
create index remembered_browser_expires on remembered_browser (expires_at);
