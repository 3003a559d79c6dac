"""O&M records (运维记录): incidents, problems, changes, releases, defects; duty handovers;
drills and training."""
