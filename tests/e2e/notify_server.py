#!/usr/bin/python3
# A stand-in desktop notification server for tests/e2e/notify.sh: owns
# org.freedesktop.Notifications on the bus at argv[1], answers each Notify
# with a new id (Desktop Notifications Specification 1.2), and appends one
# line per Notify to argv[2]: sender, summary and body (newlines as " | ").
# Writes "ready" to argv[3] once it owns the name; exits after argv[4] s.
# Needs Debian's python3-dbus and python3-gi (/usr/bin/python3).
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

addr, out, ready, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(addr)
name = dbus.service.BusName('org.freedesktop.Notifications', bus)


class Server(dbus.service.Object):
    n = 0

    @dbus.service.method('org.freedesktop.Notifications',
                         in_signature='susssasa{sv}i', out_signature='u',
                         sender_keyword='sender')
    def Notify(self, app, replaces, icon, summary, body, actions, hints,
               timeout, sender=None):
        Server.n += 1
        with open(out, 'a') as f:
            f.write('%s\t%s\t%s\t%s\n' % (sender, app, summary,
                                          body.replace('\n', ' | ')))
        return dbus.UInt32(Server.n)

    @dbus.service.method('org.freedesktop.Notifications', out_signature='as')
    def GetCapabilities(self):
        return ['body']


Server(bus, '/org/freedesktop/Notifications')
open(ready, 'w').write('ready\n')
loop = GLib.MainLoop()
GLib.timeout_add_seconds(secs, loop.quit)
loop.run()
