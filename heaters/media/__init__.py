"""The pure media layer: functions over local files and plain values (PyAV, numpy, OpenCV).

``probe`` (what is in a file), ``transcode`` (one decode -> master + proxy + features), ``frame_index`` (the
player's byte index of a proxy), ``scenes`` (cut detection), ``export`` (a clip from the master),
``keyframes`` (representative stills), ``embed`` (image vectors), ``synthetic`` (videos with known ground
truth). Nothing here touches the database, storage or the task queue; failures are ``MediaError``.
"""
