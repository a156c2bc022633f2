-- Records that the summary of a week was sent.
INSERT OR IGNORE INTO summary_sent (week_ending, sent_at, recipients) VALUES (?1, ?2, ?3);
