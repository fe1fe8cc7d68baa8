"""The running links: the department side of the national bridge, and the 川渝 partner ``cq.hub``."""
