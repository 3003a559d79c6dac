"""Electronic patrol (电子巡更): areas, checkpoints, routes, plans, rounds and scans."""
