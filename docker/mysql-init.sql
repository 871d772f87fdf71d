-- Runs once at first start: the least-privilege audit account (MySQL 8.4).
CREATE USER 'auditor'@'%' IDENTIFIED BY 'auditor-pw' REQUIRE SSL;
GRANT PROCESS, REPLICATION CLIENT, REPLICATION SLAVE, SELECT ON *.* TO 'auditor'@'%';
CREATE TABLE app.flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50),
  description VARCHAR(200) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  success BOOL NOT NULL);
