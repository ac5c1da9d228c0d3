<?php
// A zip round trip through libzip in the preopened folder: write an archive of two
// entries, reopen it, read them back; the archive is removed.
$file = __DIR__ . '/zip-' . bin2hex(random_bytes(6)) . '.zip';
$zip = new ZipArchive();
var_dump($zip->open($file, ZipArchive::CREATE | ZipArchive::EXCL));
$zip->addFromString('hello.txt', str_repeat('hello wasi ', 20));
$zip->addFromString('dir/data.json', json_encode(['a' => 1]));
var_dump($zip->close());
$zip = new ZipArchive();
var_dump($zip->open($file, ZipArchive::RDONLY));
echo $zip->numFiles, "\n";
echo strlen($zip->getFromName('hello.txt')), "\n";
echo $zip->getFromName('dir/data.json'), "\n";
$zip->close();
unlink($file);
echo file_exists($file) ? "left behind" : "removed", "\n";
