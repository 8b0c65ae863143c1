"""The pieces without a running ebbtide: Dask's adapt keywords as the API's, config dicts, the event stream."""

from __future__ import annotations

import math

import pytest

from ebbtide.adaptive import adapt_body
from ebbtide.control import SseParser
from ebbtide.launch import is_loopback, nest, worker_command


def test_dasks_adapt_keywords_become_the_control_apis():
    assert adapt_body({"minimum": 0, "maximum": 4}, (1, 2**30)) == {"minimum": 0, "maximum": 4}
    assert adapt_body({"minimum": None, "maximum": math.inf}, (1, None)) == {"maximum": "inf"}
    assert adapt_body({"interval": "500ms", "wait_count": 5, "target_duration": "1m"}, (1, None)) == {"interval": 0.5, "waitCount": 5, "targetDuration": 60}
    # As Dask's Adaptive: cores and memory bounds in workers of this size (2 threads, 4 GiB).
    assert adapt_body({"minimum_cores": 5, "maximum_cores": 9}, (2, 4 * 2**30)) == {"minimum": 3, "maximum": 4}
    assert adapt_body({"maximum": 10, "maximum_memory": "16GiB", "minimum_memory": "5GiB"}, (2, 4 * 2**30)) == {"minimum": 2, "maximum": 4}


def test_adapt_keywords_ebbtide_has_no_equivalent_for_say_so():
    with pytest.raises(TypeError, match="workerKey"):
        adapt_body({"worker_key": lambda ws: ws.host}, (1, None))
    with pytest.raises(TypeError, match="unexpected keyword argument 'maximun'"):
        adapt_body({"maximun": 3}, (1, None))
    with pytest.raises(ValueError, match="minimum: expected a whole number >= 0, got -1"):
        adapt_body({"minimum": -1}, (1, None))
    with pytest.raises(ValueError, match="the size of one worker is not known yet"):
        adapt_body({"maximum_memory": "8GiB"}, (1, None))


def test_config_dicts_may_use_dotted_keys_as_dask_config_does():
    assert nest({"adaptive.maximum": 4, "adaptive": {"minimum": 1}, "cluster.name": "x"}) == {"adaptive": {"maximum": 4, "minimum": 1}, "cluster": {"name": "x"}}
    assert nest({"adaptive": {"maximum": math.inf}}) == {"adaptive": {"maximum": "inf"}}
    with pytest.raises(ValueError, match="'adaptive.maximum' is inside 'adaptive', which is also given a value"):
        nest({"adaptive": 1, "adaptive.maximum": 2})
    with pytest.raises(ValueError, match="'adaptive' is given both a value and a section"):
        nest({"adaptive.maximum": 2, "adaptive": 1})


def test_the_event_stream_is_split_into_events_whatever_the_chunks():
    p = SseParser()
    text = b": keep-alive\n\nevent: decision\nid: 7\ndata: {\"id\": 7}\n\nevent: end\ndata: {}\n\n"
    events = []
    for i in range(0, len(text), 5):
        events += p.feed(text[i : i + 5])
    assert events == [("decision", "7", '{"id": 7}'), ("end", None, "{}")]


def test_the_worker_command_binds_loopback_for_a_scheduler_of_this_machine():
    assert worker_command("/py", True)[:4] == ["/py", "-m", "distributed.cli.dask_worker", "{scheduler}"]
    assert "--host" not in worker_command("/py", False)
    assert is_loopback("tcp://127.0.0.1:8786") and is_loopback("localhost:8786") and not is_loopback("tcp://10.0.0.2:8786")
