-- Schema version 13: the packed fields of events stored from now on may keep an IP address
-- inline (store/pack.c: NS_PACK_ADDR) instead of interning it in str. Events already stored
-- stay as they are (both forms read the same); the version tells an older ntlmscope, which
-- would not read the new form, to refuse the database.
SELECT 1;
