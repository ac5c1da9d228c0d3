<?php
// posix (what WASI can answer) and the PDO core (drivers are separate extensions).
// WASI numbers errno values its own way (ENOENT is 44): ask for a real failure's text.
var_dump(posix_access(__DIR__ . '/no-such-file'));
echo posix_strerror(posix_get_last_error()), "\n";
echo posix_getpid() > 0 ? "pid ok" : "no pid", "\n";
$uname = posix_uname();
echo is_array($uname) ? "uname: " . $uname['sysname'] : "uname fails: " . posix_strerror(posix_get_last_error()), "\n";
try {
    new PDO('nodriver:x');
} catch (PDOException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
