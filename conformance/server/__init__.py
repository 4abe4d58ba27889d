"""The reference registry served over HTTP in the EnergyTag API shape (issue 8)."""
