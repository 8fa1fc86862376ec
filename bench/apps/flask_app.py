"""A Flask route returning JSON."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(message="Hello, world!", items=[1, 2, 3])


application = app
