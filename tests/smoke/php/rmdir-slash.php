<?php
// rmdir() of a name ending in "/" (WordPress's recursive delete does this), and mkdir()
// likewise; Wasmtime refuses the slash, PHP drops it first (7.4 0018, 8.2 0013).
$dir = __DIR__ . '/rmdir-' . bin2hex(random_bytes(6));
var_dump(mkdir("$dir/"));
var_dump(is_dir($dir));
var_dump(rmdir("$dir//"));
var_dump(is_dir($dir));
