def test_project_checks_pass_and_schema_renders(db, client):
    from django.core.management import call_command

    call_command("check")
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"Setka API" in response.content
