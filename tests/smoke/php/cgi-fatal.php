<?php
// A fatal error in php-cgi: the headers, the buffered output, the error and the
// shutdown function's output still go out.
header('X-Smoke: fatal');
register_shutdown_function(function () { echo "shutdown\n"; });
ob_start();
echo "buffered\n";
trigger_error('stop', E_USER_ERROR);
echo "not reached\n";
