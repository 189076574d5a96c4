-- Issue 3: roles and groups on the account row (read with it in one query), forced password change,
-- API roles for service clients, and the audit log.

alter table account add column roles text not null default '[]';
alter table account add column groups text not null default '[]';
alter table account add column must_change_password boolean not null default false;
update account set roles = coalesce(
    (select json_agg(r.role order by r.role)::text from account_role r where r.account_id = account.account_id),
    '[]');
drop table account_role;

alter table client add column api_roles text not null default '[]';

create table audit_log (
    event_id    uuid primary key,
    at          bigint not null,
    actor       text not null,
    action      text not null,
    target      text,
    detail      text not null,
    client_ip   text
);
create index audit_log_at on audit_log (at);
