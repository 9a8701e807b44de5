"""Price data: sources (CSV folder, akshare, synthetic), cache, validation, calendars."""
