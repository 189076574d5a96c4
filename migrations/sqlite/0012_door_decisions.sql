-- Issue 24: every door asks the same decision.
-- The computer that started a QR sign-in (named on the phone before it approves), and the
-- credential version of the account that approved a device or QR request (a password or factor
-- change between the approval and the poll voids it).
alter table device_authorization add column requester_ip text;
alter table device_authorization add column requester_agent text;
alter table device_authorization add column approved_version bigint;
