"""Server side of OpenApp: the apps, the browser, the tasks."""
