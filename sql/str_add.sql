-- Interns a new string and returns its id.
INSERT INTO str (s) VALUES (?1) RETURNING id;
