-- Issue 12: the language a person prefers (a tag of a language we have a catalog for; null: not
-- chosen), released as the `locale` claim with the profile scope.
alter table account add column locale text;
-- The app asking, named on the phone's page of a QR sign-in started from an app's sign-in.
alter table device_authorization add column for_client_id uuid references client (client_id) on delete set null;
