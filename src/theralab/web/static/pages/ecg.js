// ECG trace with detected R peaks (figure built by web/pages/ecg.py): the first 10 s, a range slider for the rest.
if (window.theralab) window.theralab.serverFigure("ecg-plot", "ecg-figure");
