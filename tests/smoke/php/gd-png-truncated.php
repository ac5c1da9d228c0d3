<?php
// A truncated PNG: libpng reports an error; on WASI that is a PHP fatal error (no
// longjmp back into libgd), and the shutdown functions still run.
register_shutdown_function(function () { echo "shutdown\n"; });
$im = imagecreatetruecolor(8, 8);
ob_start();
imagepng($im);
$png = ob_get_clean();
echo strlen($png) > 60 ? "png written\n" : "too short\n";
imagecreatefromstring(substr($png, 0, 60));
echo "not reached\n";
