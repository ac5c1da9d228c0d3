<?php
// The files session handler writes into a preopened folder (run with
// -d session.save_path=/app/tmp); session-read.php reads it back in a second run.
// The id names the PHP version, so 7.4's and 8.2's tests never share a file.
session_id('wlmake' . PHP_VERSION_ID);
session_start();
$_SESSION = ['user' => 'wasi', 'visits' => 41];
session_write_close();
$file = session_save_path() . '/sess_' . session_id();
echo is_file($file) ? file_get_contents($file) : "no session file", "\n";
