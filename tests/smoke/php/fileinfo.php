<?php
// fileinfo with PHP's bundled libmagic database (compiled into the binary).
$finfo = new finfo(FILEINFO_MIME_TYPE);
$samples = [
    "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0",
    "GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!",
    "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "plain words in a line\n",
];
foreach ($samples as $bytes) {
    echo $finfo->buffer($bytes), "\n";
}
echo mime_content_type(__DIR__ . '/data.txt'), "\n";
