<?php
// exif: reads the EXIF block of a tiny JPEG this script writes into the preopened folder.
// TIFF part (little endian): header, IFD0 with Make, Model and Orientation, then strings.
$make = "wlmake\0";
$model = "WASI Camera\0";
$data = 8 + 2 + 3 * 12 + 4;
$tiff = "II" . pack('vV', 42, 8)
    . pack('v', 3)
    . pack('vvVV', 0x010F, 2, strlen($make), $data)
    . pack('vvVV', 0x0110, 2, strlen($model), $data + strlen($make))
    . pack('vvVvv', 0x0112, 3, 1, 6, 0)
    . pack('V', 0)
    . $make . $model;
$app1 = "Exif\0\0" . $tiff;
$jpeg = "\xFF\xD8"
    . "\xFF\xE1" . pack('n', strlen($app1) + 2) . $app1
    . "\xFF\xC0" . pack('nCnnC', 11, 8, 2, 3, 1) . "\x01\x11\x00"   // SOF0: 3x2, 1 component
    . "\xFF\xDA" . pack('nC', 8, 1) . "\x01\x00\x00\x3F\x00"        // SOS
    . "\x00"
    . "\xFF\xD9";
$file = __DIR__ . '/exif-' . bin2hex(random_bytes(6)) . '.jpg';
file_put_contents($file, $jpeg);
echo exif_imagetype($file) === IMAGETYPE_JPEG ? "jpeg" : "not jpeg", "\n";
$exif = exif_read_data($file);
unlink($file);
echo $exif['Make'], ' | ', $exif['Model'], ' | ', $exif['Orientation'], "\n";
echo $exif['COMPUTED']['Width'], 'x', $exif['COMPUTED']['Height'], "\n";
echo exif_tagname(0x0110), "\n";
