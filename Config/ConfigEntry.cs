namespace Failmail.Config;

// One `key = value` line of a config file. Name is the key normalised to a flag name
// ("max_wait" → "max-wait"); Key is as written, for messages; Line counts from 1.
internal readonly record struct ConfigEntry(int Line, string Key, string Name, string Value);
