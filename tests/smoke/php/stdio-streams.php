<?php
// php://stdout, php://stderr and php://fd/N opened while the CLI's STDOUT/STDERR
// constants hold the standard descriptors (PHP would duplicate them; WASI cannot), and
// closing such a stream leaves the descriptor open for the output after it.
$out = fopen('php://stdout', 'w');
fwrite($out, "via php://stdout\n");
fclose($out);
$fd = fopen('php://fd/1', 'w');
fwrite($fd, "via php://fd/1\n");
fclose($fd);
$err = fopen('php://stderr', 'w');
fwrite($err, "via php://stderr\n");
fclose($err);
echo "after close\n";
