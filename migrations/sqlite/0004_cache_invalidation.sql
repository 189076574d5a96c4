-- Nothing to do on SQLite: it has no read cache (see src/store/cache.rs), so no triggers to notify
-- it. The file keeps both backends' migration lists in lockstep.
select 1;
