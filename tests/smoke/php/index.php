<?php
header('X-Smoke: yes');
echo "method=", $_SERVER['REQUEST_METHOD'], " a=", $_GET['a'] ?? '-', "\n";
