"""The client's people in the loop: sign-in links, and their own page (key results, tasks, support, meetings)."""
