-- The user of /ttconfig/adminUser, created with ADMIN right after the
-- database (ttagent createAdminUser). {{password}} comes quoted.
whenever sqlerror exit failure;
create user {{user}} identified by {{password}};
grant admin to {{user}};
