connections = {}
opened = []  # every connection really opened


def open_connection(host):
    opened.append(host)
    return f"connection to {host}"


def get_connection(host):
    if host not in connections:  # check ...
        fuzz.point("checked")  # ... a pause here lets the other thread check too ...
        connection = open_connection(host)
        connections[host] = connection  # ... then act
    return connections[host]
