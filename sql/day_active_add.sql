-- Adds newly active dependencies to a day of the burn-down.
INSERT INTO day_active (day, dependencies, ntlmv1_dependencies)
VALUES (?1, ?2, ?3)
ON CONFLICT (day)
DO UPDATE SET dependencies = dependencies + excluded.dependencies,
              ntlmv1_dependencies = ntlmv1_dependencies + excluded.ntlmv1_dependencies;
