<?php
// gd with libpng: draw an image, write it as PNG into the preopened folder, read it back
// (size, type, pixels), and the PNG in memory; the file is removed.
$file = __DIR__ . '/gd-' . bin2hex(random_bytes(6)) . '.png';
$im = imagecreatetruecolor(40, 30);
$red = imagecolorallocate($im, 255, 0, 0);
$blue = imagecolorallocate($im, 0, 0, 255);
imagefilledrectangle($im, 0, 0, 39, 29, $red);
imagefilledellipse($im, 20, 15, 10, 10, $blue);
var_dump(imagepng($im, $file, 9));
$size = getimagesize($file);
echo $size[0], 'x', $size[1], ' ', $size['mime'], "\n";
$back = imagecreatefrompng($file);
printf("%06x %06x\n", imagecolorat($back, 1, 1), imagecolorat($back, 20, 15));
ob_start();
imagepng($back);
$png = ob_get_clean();
echo substr($png, 1, 3), ' ', imagesx(imagecreatefromstring($png)), "\n";
echo gd_info()['PNG Support'] ? 'png support' : 'no png', "\n";
unlink($file);
echo file_exists($file) ? "left behind" : "removed", "\n";
