-- Databases of the compose stack; each service owns its own.
CREATE DATABASE IF NOT EXISTS monitor_manage CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS monitor_warning CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
GRANT ALL PRIVILEGES ON monitor_manage.* TO 'monitor'@'%';
GRANT ALL PRIVILEGES ON monitor_warning.* TO 'monitor'@'%';
