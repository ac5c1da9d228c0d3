<?php
// Second run after session-write.php: the session comes back from its file, then
// session_destroy() removes the file.
session_id('wlmake' . PHP_VERSION_ID);
session_start();
$_SESSION['visits']++;
echo $_SESSION['user'], ' ', $_SESSION['visits'], "\n";
$file = session_save_path() . '/sess_' . session_id();
session_destroy();
clearstatcache();
echo is_file($file) ? "still there" : "destroyed", "\n";
