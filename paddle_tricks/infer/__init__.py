"""Classify new images with a trained run or an exported model (``paddle-tricks infer``).

* :mod:`.sources`: the images named on the command line (file, folder, glob, list file);
* :mod:`.backends`: dygraph, ``paddle.inference`` and ONNX Runtime behind one call;
* :mod:`.run_folder`: what a run folder says (config, weights, class names, preprocessing);
* :mod:`.classifier`: backend + class names + preprocessing;
* :mod:`.predict`: batched top-k predictions and their CSV / JSON file.

Nothing is imported here, so that the command line can silence Paddle before Paddle is loaded.
"""
