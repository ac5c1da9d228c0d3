<?php
// libxml's errors collected (libxml_use_internal_errors), read and cleared, then the end
// of the request frees the list: PHP 7.4's list destructor had a type that traps when
// zend_llist calls it (7.4 common patch 0017).
libxml_use_internal_errors(true);
$doc = new DOMDocument();
var_dump($doc->loadXML('<root att/>'));
echo count(libxml_get_errors()) > 0 ? "errors collected\n" : "no errors\n";
libxml_clear_errors();
echo count(libxml_get_errors()), "\n";
var_dump($doc->loadXML('<root><unclosed></root>'));
echo "done\n";
