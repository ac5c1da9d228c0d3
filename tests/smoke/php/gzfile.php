<?php
// gzopen(), gzfile(), readgzfile() and compress.zlib:// on a file in the preopened
// folder (PHP hands zlib the stream's descriptor; on WASI it cannot duplicate it).
$file = __DIR__ . '/gzfile-' . bin2hex(random_bytes(6)) . '.gz';
$gz = gzopen($file, 'w9');
echo 'written ', gzwrite($gz, "hello from a gzip file\nline two\n"), "\n";
gzclose($gz);
echo implode('', gzfile($file));
echo count(file('compress.zlib://' . $file)), "\n";
ob_start();
$length = readgzfile($file);
ob_end_clean();
echo $length, "\n";
unlink($file);
