<?php
// header('Location: ...'); exit; in php-cgi: a 302 with its Location header.
header('Location: /elsewhere');
exit;
