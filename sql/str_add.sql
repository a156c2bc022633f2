-- Interns a new string (its id is the connection's last rowid: RETURNING would build a
-- temporary table for each one).
INSERT INTO str (s) VALUES (?1);
