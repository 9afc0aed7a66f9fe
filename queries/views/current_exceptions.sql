-- current_exceptions: the exceptions in force: those of the newest load
-- (greatest load_id) of the `exceptions` table; older loads stay in the
-- table for audit. An exception applies on the days up to and including
-- `expires`; a blank (NULL) device_id, policy_id or setting_id matches any.
CREATE VIEW current_exceptions AS
SELECT load_id, loaded_at, source_file, line, device_id, policy_id, setting_id, reason, owner, expires
FROM exceptions
WHERE load_id = (SELECT max(load_id) FROM exceptions)
