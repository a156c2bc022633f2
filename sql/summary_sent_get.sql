-- Whether the summary of a week was sent already.
SELECT sent_at, recipients FROM summary_sent WHERE week_ending = ?1;
