"""The top floor: the command line, the scheduler and its timetable, the console's tables, ``init``'s templates."""
