"""The running national and 川渝 links: the systems behind the ``cn.national`` and ``cq.hub`` gateways."""
