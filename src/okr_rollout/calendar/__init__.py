"""Calendar feeds (iCalendar): an engagement's calendar and a person's feed at a secret URL."""
