-- Every replica keeps clients and live grants in memory (src/store/cache.rs) and empties that cache
-- when told of a change. These triggers tell it, whoever makes the change: a replica, the CLI, or
-- an operator's SQL. NOTIFY is sent at commit and collapsed within a transaction, so a bulk change
-- costs one message. Inserts of grants and clients need none: nothing cached can be stale by them.
create function hccc_sso_notify_invalidate() returns trigger language plpgsql as $$
begin
    perform pg_notify('hccc_sso_invalidate', tg_table_name);
    return null;
end
$$;

create trigger account_invalidates_cache after update or delete or truncate on account
    for each statement execute function hccc_sso_notify_invalidate();
create trigger oauth_grant_invalidates_cache after update or delete or truncate on oauth_grant
    for each statement execute function hccc_sso_notify_invalidate();
create trigger client_invalidates_cache after update or delete or truncate on client
    for each statement execute function hccc_sso_notify_invalidate();
create trigger revoked_access_token_invalidates_cache after insert on revoked_access_token
    for each statement execute function hccc_sso_notify_invalidate();
