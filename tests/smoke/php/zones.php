<?php
// Time zones, whichever database the build has: the one compiled in (release, speed) or
// the TZif files and zone.tab of the folder $TZDIR names (size: patch "date: zones from a
// zoneinfo folder"); this folder's zoneinfo/ holds Europe/Paris only.
echo date_default_timezone_get(), ' ', date('Y-m-d H:i T', 0), PHP_EOL;
date_default_timezone_set('Europe/Paris');
echo date('Y-m-d H:i T P', 1700000000), ' ', date('T P', 1690000000), PHP_EOL;
$location = (new DateTimeZone('Europe/Paris'))->getLocation();
echo $location['country_code'], ' ', round($location['latitude'], 2), ' ', round($location['longitude'], 2), PHP_EOL;
echo implode(',', DateTimeZone::listIdentifiers(DateTimeZone::PER_COUNTRY, 'FR')), ' ';
echo in_array('Europe/Paris', timezone_identifiers_list(), true) ? 'listed' : 'not listed', PHP_EOL;
$utc = new DateTime('2024-02-29 12:00', new DateTimeZone('UTC'));
echo $utc->setTimezone(new DateTimeZone('Europe/Paris'))->format('c'), PHP_EOL;
