<?php
// touch() without a time sets the current time (wasi-libc's utime(path, NULL) set
// 1970-01-01). Works on a file of its own in the preopened folder and removes it.
$file = __DIR__ . '/touch-' . bin2hex(random_bytes(6)) . '.tmp';
touch($file, 86400);
clearstatcache();
echo gmdate('Y', filemtime($file)), "\n";
touch($file);
clearstatcache();
$age = abs(time() - filemtime($file));
unlink($file);
echo $age < 300 ? "now" : "mtime is {$age} s off", "\n";
