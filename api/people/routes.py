from litestar import Controller


class PersonController(Controller):
    path = "/api/v1/persons"
