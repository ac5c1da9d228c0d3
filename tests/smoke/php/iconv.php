<?php
// iconv (wasi-libc's, from musl): UTF-8 to Latin-1 and UTF-16 and back.
$text = "Caf\u{e9} na\u{ef}ve";
$latin1 = iconv('UTF-8', 'ISO-8859-1', $text);
echo bin2hex($latin1), "\n";
echo iconv('ISO-8859-1', 'UTF-8', $latin1) === $text ? "round trip ok" : "round trip broken", "\n";
echo bin2hex(iconv('UTF-8', 'UTF-16BE', "\u{20ac}1")), "\n";
echo iconv_strlen($text, 'UTF-8'), ' ', iconv_substr($text, 5, 5, 'UTF-8'), "\n";
echo ICONV_IMPL, "\n";
