"""ebbtide for Dask users: ``EbbtideCluster``, a ``distributed.deploy.Cluster`` whose adaptive
scaling runs in ebbtide (docs/python.md).

>>> from ebbtide import EbbtideCluster
>>> from dask.distributed import Client
>>> with EbbtideCluster() as cluster:
...     cluster.adapt(minimum=0, maximum=4)
...     client = Client(cluster)
"""

from .adaptive import EbbtideAdaptive
from .cluster import EbbtideCluster
from .errors import EbbtideError, EbbtideInputError

__version__ = "0.1.0"
__all__ = ["EbbtideCluster", "EbbtideAdaptive", "EbbtideError", "EbbtideInputError", "__version__"]
