"""Jobs, schedules and the automation that ties the domains together."""
